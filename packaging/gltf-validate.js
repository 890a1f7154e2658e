// Validates a glTF/GLB file with the Khronos glTF validator (npm package
// gltf-validator, installed by packaging/setup.sh into .tools/) and prints
// one JSON line: {"errors", "warnings", "infos", "messages"}. Exit 0 when the
// file has no errors, 1 when it has, 2 when it cannot be validated.
//   NODE_PATH=.tools/node_modules node packaging/gltf-validate.js FILE
'use strict';
const fs = require('fs');
let validator;
try {
  validator = require('gltf-validator');
} catch (e) {
  console.error('gltf-validator is not installed (packaging/setup.sh installs it into .tools/)');
  process.exit(2);
}
const file = process.argv[2];
if (!file) {
  console.error('usage: gltf-validate.js FILE.glb');
  process.exit(2);
}
validator
  .validateBytes(new Uint8Array(fs.readFileSync(file)), {maxIssues: 100})
  .then((report) => {
    const issues = report.issues;
    console.log(JSON.stringify({
      errors: issues.numErrors,
      warnings: issues.numWarnings,
      infos: issues.numInfos,
      messages: issues.messages.map((m) => `${m.severity === 0 ? 'error' : m.severity === 1 ? 'warning' : 'info'} ${m.code} at ${m.pointer || ''}: ${m.message}`),
    }));
    process.exit(issues.numErrors ? 1 : 0);
  })
  .catch((e) => {
    console.error(`${file}: cannot be validated: ${e}`);
    process.exit(2);
  });
