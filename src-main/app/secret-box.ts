/**
 * The settings store's SecretBox over Electron's safeStorage (OS keychain / DPAPI / libsecret).
 * Takes the safeStorage object as a parameter so this module never imports electron.
 */
import type { SecretBox } from '../runtime/settings-store.ts';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means no keyring, i.e. a hard-coded key: not a real secret store. */
  getSelectedStorageBackend?(): string;
}

export function safeStorageSecretBox(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): SecretBox {
  return {
    available() {
      if (!safeStorage.isEncryptionAvailable()) return false;
      if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return false;
      return true;
    },
    encrypt: (text) => safeStorage.encryptString(text),
    decrypt: (buf) => safeStorage.decryptString(buf),
  };
}
