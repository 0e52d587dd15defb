// Writes dist/build-info.json after `nest build`: the commit the status API and
// portico_build_info report. SOURCE_COMMIT wins (docker builds have no .git).
const { execFileSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

let commit = process.env.SOURCE_COMMIT || null;
if (!commit) {
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = null;
  }
}
writeFileSync(join(__dirname, '..', 'dist', 'build-info.json'), JSON.stringify({ commit, builtAt: new Date().toISOString() }) + '\n');
