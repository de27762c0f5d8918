/**
 * electron-builder.yml, checked the way electron-builder itself loads and checks it (its config
 * loader and its validator, against its JSON schema), since `npm run dist` cannot run here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string, options: null): Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const load = () => getConfig(root, `${root}electron-builder.yml`, null);

describe('electron-builder.yml', () => {
  it('passes electron-builder\'s own schema validation', async () => {
    await expect(validateConfiguration(await load(), new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('would be caught if it were wrong (the validator is not a no-op)', async () => {
    const config = await load();
    config.linux.maintainers = 'a typo';
    await expect(validateConfiguration(config, new DebugLogger(false))).rejects.toThrow(/Invalid configuration object/);
  });

  it('names what the issue asks for: targets, maintainer, association, icons, webgpu unpacked', async () => {
    const config = await load();
    expect(config.appId).toBe('studio.backprop.desktop');
    expect(config.productName).toBe('Backprop Studio');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.maintainer).toMatch(/<.+@.+>/);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('node_modules/webgpu/**/*.node');
    expect(config.electronFuses).toMatchObject({ runAsNode: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true, grantFileProtocolExtraPrivileges: false });
    expect(config.fileAssociations[0]).toMatchObject({ ext: 'bpstudio', name: 'Backprop Studio project' });
    for (const icon of [config.mac.icon, config.win.icon, `${config.linux.icon}/512x512.png`]) {
      expect(existsSync(`${root}${icon}`), icon).toBe(true);
      expect(readFileSync(`${root}${icon}`).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('starts the app from the bundle the build writes, the same one package.json names', async () => {
    const config = await load();
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(readFileSync(`${root}scripts/build-electron.ts`, 'utf8')).toContain(`outfile: '${pkg.main}'`);
    expect(pkg.scripts.dist).toMatch(/electron-builder --config electron-builder\.yml/);
  });
});
