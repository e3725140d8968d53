// Print the font list that Pyodide's matplotlib builds on its first import (matplotlib/fontlist.json).
// lite/build.py runs this once per matplotlib wheel with Node.js and ships the result, so that no
// kernel in the browser rebuilds it (which takes seconds and prints a warning to stderr).
//     node lite/fontlist.mjs <folder with pyodide.mjs and pyodide-lock.json>
import path from "node:path";
import { pathToFileURL } from "node:url";

const indexURL = path.resolve(process.argv[2]) + path.sep;
const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
await pyodide.loadPackage(["matplotlib"], { messageCallback: () => {} });
const where = pyodide.runPython(`
import pathlib, matplotlib.font_manager as fm
path = pathlib.Path(fm.__file__).with_name("fontlist.json")
str(path) if path.exists() else ""
`);
if (!where) {
  console.error("matplotlib wrote no fontlist.json");
  process.exit(1);
}
process.stdout.write(pyodide.FS.readFile(where, { encoding: "utf8" }));
