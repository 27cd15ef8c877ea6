import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPythonLoggingConfig } from './python-logging-config';

describe('readPythonLoggingConfig', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'logconf-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it("reads Nodepool's own tools/logging.conf form: the nodepool logger's level, its stream handler", () => {
    const file = write('logging.conf', '[formatters]\nkeys=simple\n\n[loggers]\nkeys=root,nodepool\n\n[handlers]\nkeys=console\n\n' +
      '[logger_root]\nlevel=WARNING\nhandlers=console\n\n[logger_nodepool]\nlevel=DEBUG\nhandlers=console\nqualname=nodepool\npropagate=0\n\n' +
      '[handler_console]\nlevel=DEBUG\nclass=StreamHandler\nformatter=simple\nargs=(sys.stdout,)\n\n[formatter_simple]\nformat=%(message)s\n');
    expect(readPythonLoggingConfig(file)).toEqual({ level: 'debug', destination: { kind: 'stdout' } });
  });

  it('takes a file handler of the root logger, at the higher of the logger and handler levels', () => {
    const file = write('file.conf', '[loggers]\nkeys=root\n[handlers]\nkeys=f\n[logger_root]\nlevel=DEBUG\nhandlers=f\n' +
      "[handler_f]\nclass=logging.handlers.WatchedFileHandler\nlevel=INFO\nargs=('/var/log/nodepool/launcher.log',)\n");
    expect(readPythonLoggingConfig(file)).toEqual({ level: 'info', destination: { kind: 'file', path: '/var/log/nodepool/launcher.log' } });
  });

  it('reads a dictConfig YAML file', () => {
    const file = write('logging.yaml', 'version: 1\nhandlers:\n  normal:\n    class: logging.handlers.WatchedFileHandler\n    filename: /tmp/np.log\n    level: WARNING\n' +
      'loggers:\n  nodepool:\n    handlers: [normal]\n    level: INFO\nroot:\n  handlers: [normal]\n  level: ERROR\n');
    expect(readPythonLoggingConfig(file)).toEqual({ level: 'warn', destination: { kind: 'file', path: '/tmp/np.log' } });
  });

  it('names the file when it cannot be used', () => {
    expect(() => readPythonLoggingConfig(path.join(tmp, 'missing.conf'))).toThrow(/missing\.conf: cannot read/);
    expect(() => readPythonLoggingConfig(write('x.conf', 'level: debug\n'))).toThrow(/x\.conf: not a logging configuration/);
  });
});
