/**
 * The tool modules Portico serves, one line each. A line here is a module's
 * whole registration: `CoreModule` imports every module exported from this
 * file, and discovery finds the module's `@ToolProvider` classes at boot
 * (duplicate or malformed names fail the boot). `npm run new:module -- <name>`
 * adds the line for a new module; docs/extending.md explains the rest.
 *
 * Modules switched on by configuration (the conformance fixtures) are
 * composed in `CoreModule` itself, and a deployment's own modules can also be
 * passed to `startPortico(config, modules)`.
 */
export { NetModule } from './net/net.module';
export { TimeModule } from './time/time.module';
