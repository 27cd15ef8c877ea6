// Prints, after the run, one line per skipped test with the reason its file recorded
// (test/support/skip-reasons.ts), then one plain closing line ("tests: N passed, N failed,
// N skipped") that CI tooling reads whatever the runner; jest's own summary uses another wording
// and says nothing about why a test was skipped.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Same rule as skipReasonFile() in skip-reasons.ts. */
function skipReasonFile(dir, testPath) {
  return path.join(dir, `${crypto.createHash('sha1').update(testPath).digest('hex')}.jsonl`);
}

/** Reasons recorded by one test file: [{ title?, reason }]. */
function readReasons(dir, testPath) {
  const file = skipReasonFile(dir, testPath);
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  fs.rmSync(file, { force: true });
  return lines.map((l) => JSON.parse(l));
}

/** The reason for one skipped test: the one recorded for its describe or title, else the file's. */
function reasonFor(reasons, assertion, globalConfig) {
  const names = [...assertion.ancestorTitles, assertion.title];
  const named = reasons.find((r) => r.title !== undefined && r.title !== null && names.includes(r.title));
  const whole = reasons.find((r) => r.title === undefined || r.title === null);
  if (named || whole) return (named || whole).reason;
  if (assertion.status === 'todo') return 'marked todo';
  if (globalConfig.testNamePattern) return `not selected by --testNamePattern ${globalConfig.testNamePattern}`;
  return 'no reason recorded (use skipBecause from test/support/skip-reasons.ts)';
}

class SummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.lines = [];
    // Test processes start after the reporters and inherit this.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodepool-ts-skips-'));
    process.env.NODEPOOL_TS_SKIP_REASONS = this.dir;
  }

  onTestResult(_test, testResult) {
    const reasons = readReasons(this.dir, testResult.testFilePath);
    const file = path.relative(this.globalConfig.rootDir, testResult.testFilePath);
    for (const a of testResult.testResults) {
      if (a.status !== 'pending' && a.status !== 'skipped' && a.status !== 'todo' && a.status !== 'disabled') continue;
      const name = [...a.ancestorTitles, a.title].join(' › ');
      this.lines.push(`skipped: ${file} › ${name}: ${reasonFor(reasons, a, this.globalConfig)}`);
    }
  }

  onRunComplete(_contexts, results) {
    fs.rmSync(this.dir, { recursive: true, force: true });
    const skipped = results.numPendingTests + results.numTodoTests;
    const out = this.lines.length > 0 ? `\n${this.lines.join('\n')}\n` : '';
    process.stdout.write(
      `${out}\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
