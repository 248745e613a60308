// Code blocks of Markdown files, for the tests that compile and run the README's and the
// docs' samples.

/** A fenced code block: its language, the words after it, its text and its first line. */
export interface CodeBlock {
  readonly lang: string;
  readonly meta: readonly string[];
  readonly code: string;
  readonly line: number;
}

/** Every fenced (```) block of a Markdown text, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i] ?? "");
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== "```") body.push(lines[i] ?? "");
    if (i === lines.length) throw new Error(`unclosed code block at line ${start + 1}`);
    blocks.push({
      lang: open[1] ?? "",
      meta: (open[2] ?? "").split(/\s+/).filter((w) => w !== ""),
      code: `${body.join("\n")}\n`,
      line: start + 1,
    });
  }
  return blocks;
}

/** The first ```ts block of a Markdown text. */
export function firstTypeScriptBlock(markdown: string): string {
  const found = codeBlocks(markdown).find((b) => b.lang === "ts");
  if (found === undefined) throw new Error("no ```ts block");
  return found.code;
}
