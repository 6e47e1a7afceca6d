export * from './plan.js';
export * from './executor.js';
export * from './journal.js';
export * from './audit.js';
export * from './report.js';
export * from './state-dir.js';
export * from './log-lines.js';
