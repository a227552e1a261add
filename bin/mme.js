#!/usr/bin/env node
// Thin launcher: all code lives in dist/ (built from src/ by `npm run build`).
import { main } from '../dist/cli.js';
main(process.argv);
