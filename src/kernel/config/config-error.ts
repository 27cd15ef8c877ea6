import { formatIssue, type ConfigIssue } from '../../plugins/config-validation';

/** Which step of loading nodepool.yaml found a problem (config-validate reports them apart). */
export type ConfigStage = 'read' | 'yaml' | 'schema' | 'check';

/** A problem in a configuration file: a {@link ConfigIssue} that knows its file and stage. */
export interface ConfigError extends ConfigIssue {
  /** Absolute path of the file the problem is in. */
  file: string;
  stage: ConfigStage;
  /** Extra lines for humans, e.g. the YAML snippet around a syntax error. */
  detail?: string;
  /** `warning`: reported, but what it is about still runs (launcher runtime leniency). */
  severity?: 'warning';
}

/** Builds a {@link ConfigError}. */
export function configError(file: string, stage: ConfigStage, path: string, message: string, detail?: string): ConfigError {
  return detail === undefined ? { file, stage, path, message } : { file, stage, path, message, detail };
}

/** Turns schema issues of `file` into {@link ConfigError}s. */
export function configErrors(file: string, stage: ConfigStage, issues: readonly ConfigIssue[]): ConfigError[] {
  return issues.map((issue) => configError(file, stage, issue.path, issue.message));
}

/** `<file>: <key path>: <message>`, the form every configuration error is logged in. */
export function formatConfigError(error: ConfigError): string {
  return formatIssue(error, error.file);
}
