// Runs when node-gyp-build found no prebuilt binary and could not compile one: the install still succeeds,
// and nodenn runs on its pure-TypeScript backend (it warns once at run time).
'use strict';
console.warn('nodenn: no prebuilt binary for this platform and the source build failed; ' +
  'nodenn will use its pure-TypeScript backend (correct, but slower). See the README, "Installing: prebuilt ' +
  'binary, source build, or TypeScript".');
