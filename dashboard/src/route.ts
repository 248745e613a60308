// Routes live in the URL's hash (#/runs/abc), so the server serves one static page and a
// reload or a shared link opens the same view.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { readonly view: "overview" }
  | { readonly view: "runs" }
  | { readonly view: "run"; readonly id: string; readonly tab: RunTab }
  | { readonly view: "approvals" };

export type RunTab = "timeline" | "conversation" | "journal";

const TABS: readonly RunTab[] = ["timeline", "conversation", "journal"];

/** Reads a hash such as `#/runs/order-7/journal`. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [head, id, tab] = parts;
  if (head === "runs" && id !== undefined && id !== "") {
    const known = TABS.find((t) => t === tab);
    return { view: "run", id, tab: known ?? "timeline" };
  }
  if (head === "runs") return { view: "runs" };
  if (head === "approvals") return { view: "approvals" };
  return { view: "overview" };
}

/** The hash that opens `route`. */
export function hrefOf(route: Route): string {
  switch (route.view) {
    case "run":
      return `#/runs/${encodeURIComponent(route.id)}${route.tab === "timeline" ? "" : `/${route.tab}`}`;
    case "runs":
      return "#/runs";
    case "approvals":
      return "#/approvals";
    case "overview":
      return "#/";
  }
}

/** The current route, following the hash as it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
