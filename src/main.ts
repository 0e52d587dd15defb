import 'reflect-metadata';
import { runCli } from './cli/portico';

void runCli(process.argv.slice(2));
