// Entry point: applies the theme before the first paint and mounts the app.
import { render } from "preact";
import { App } from "./app.tsx";
import { applyTheme, currentTheme } from "./theme.ts";
import "./styles.css";

applyTheme(currentTheme());
const root = document.getElementById("app");
if (root !== null) render(<App />, root);
