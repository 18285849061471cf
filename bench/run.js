// npm run bench: every bench in one run. Each bench prints a markdown table; --quick for CI-sized runs.
'use strict';
require('./gemm').main();
require('./conv').main();
