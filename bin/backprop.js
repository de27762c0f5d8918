#!/usr/bin/env node
// The `backprop` command: runs the TypeScript CLI through tsx, so there is no build step.
import process from 'node:process';
import { tsImport } from 'tsx/esm/api';

// A reader that stops early (`backprop train … --jsonl | head`) is no error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const { main } = await tsImport('../engine/cli.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
