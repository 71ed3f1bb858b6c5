/**
 * A credential written literally in the configuration file works, but it ends up in backups and
 * version control: say which key, every time.
 */
import type { Writable } from 'node:stream';
import type { Config } from '#core/config-schema.ts';

function warnLiteralSecrets(config: Config, stderr: Writable): void {
  for (const key of config.literalSecrets) {
    stderr.write(
      `warning: ${key} holds a credential written literally in the config file; use \${VAR} and the environment\n`,
    );
  }
}

export { warnLiteralSecrets };
