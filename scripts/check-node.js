// Fails early, with the fix, when an npm script runs on a Node other than the project's (24).
// npm puts node_modules/.bin first on PATH, where the `node` devDependency links Node 24.
const major = Number(process.versions.node.split(".")[0]);
if (major !== 24) {
  console.error(
    `mlops-platform needs Node 24 but this is Node ${process.versions.node}. ` +
      "Run scripts through npm (npm test, npm run ...), which uses node_modules/.bin/node from the " +
      "`node` devDependency; run `npm ci` first if node_modules is missing.",
  );
  process.exit(1);
}
