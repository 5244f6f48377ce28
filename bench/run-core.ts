import { coreTable, runCoreBench } from './core.js';

console.log(coreTable(runCoreBench()));
