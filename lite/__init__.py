"""The browser edition: `build` makes the JupyterLite site (`make lite` runs lite/build.py), `browser`
drives it in headless Chromium for the tests and the benchmark (`from lite import build, browser`
with the repository on sys.path)."""
