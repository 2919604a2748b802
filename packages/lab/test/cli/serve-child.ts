/**
 * Starts `evloop serve` the way the CLI does (runServe) in a child process for the tests:
 * argv: [workers] [poller]. Port 0: the address line says which port was picked.
 */
import { runServe } from '../../src/cli/serve.js';

const workers = Number(process.argv[2] ?? 1);
const poller = process.argv[3] ?? 'auto';
process.exitCode = await runServe({ port: 0, host: '127.0.0.1', workers, poller });
