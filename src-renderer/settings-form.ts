/**
 * The settings form's model: what the form edits, how it is checked before sending, and the
 * SettingsPatch it produces. The API key is write-only: the form starts with it empty, and only a
 * non-empty value (or an explicit "forget") goes into the patch.
 */
import type { SettingsPatch, SettingsView } from '../src-main/control/contract.ts';

export interface SettingsForm {
  listenUrl: string;
  startListenerOnLaunch: boolean;
  registryUrl: string;
  environmentId: string;
  name: string;
  authMethod: SettingsView['remote']['authMethod'];
  awsProfile: string;
  awsRegion: string;
  awsService: string;
  connectOnLaunch: boolean;
  closeToTray: boolean;
  startAtLogin: boolean;
  /** A new key to store; '' leaves the stored one alone. */
  apiKey: string;
  forgetApiKey: boolean;
}

export type SettingsErrors = Partial<Record<keyof SettingsForm, string>>;

export function formFromSettings(s: SettingsView): SettingsForm {
  return {
    listenUrl: s.listenUrl,
    startListenerOnLaunch: s.startListenerOnLaunch,
    registryUrl: s.remote.registryUrl,
    environmentId: s.remote.environmentId,
    name: s.remote.name,
    authMethod: s.remote.authMethod,
    awsProfile: s.remote.awsProfile,
    awsRegion: s.remote.awsRegion,
    awsService: s.remote.awsService,
    connectOnLaunch: s.remote.connectOnLaunch,
    closeToTray: s.closeToTray,
    startAtLogin: s.startAtLogin,
    apiKey: '',
    forgetApiKey: false,
  };
}

/** `ws://IP:PORT` with an IPv4 or bracketed IPv6 literal and a port in 0..65535 (as `--listen`). */
function checkListenUrl(value: string): string | undefined {
  const m = /^ws:\/\/(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(value.trim());
  if (!m) return 'Use ws://IP:PORT, for example ws://127.0.0.1:0 (port 0 picks a free port).';
  const port = Number(m[2]);
  if (port > 65535) return 'The port must be between 0 and 65535.';
  const host = m[1]!;
  if (!host.startsWith('[') && host.split('.').some((octet) => Number(octet) > 255)) return 'That is not a valid IPv4 address.';
  return undefined;
}

function checkRegistryUrl(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return 'Not a URL.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The registry URL must start with https:// (or http:// for loopback).';
  if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    return 'Plain http:// is only allowed for a loopback registry.';
  }
  return undefined;
}

/** As the settings store checks AWS names: letters, digits, `.`, `_`, `-`; empty where the AWS chain decides. */
function checkAwsName(value: string, emptyAllowed: boolean): string | undefined {
  const name = value.trim();
  if (name === '') return emptyAllowed ? undefined : 'Needed (execute-api unless your registry says otherwise).';
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) return 'Letters, digits, dots, dashes and underscores only.';
  return undefined;
}

export function validateSettingsForm(form: SettingsForm): SettingsErrors {
  const errors: SettingsErrors = {};
  const listen = checkListenUrl(form.listenUrl);
  if (listen) errors.listenUrl = listen;
  const registry = checkRegistryUrl(form.registryUrl);
  if (registry) errors.registryUrl = registry;
  const wantsRemote = form.connectOnLaunch || form.environmentId.trim() !== '';
  if (wantsRemote && form.registryUrl.trim() === '') errors.registryUrl = 'A registry URL is needed to connect.';
  if (form.connectOnLaunch && form.environmentId.trim() === '') errors.environmentId = 'An environment id is needed to connect.';
  if (form.name.length > 200) errors.name = 'At most 200 characters.';
  if (form.authMethod === 'aws-sigv4') {
    // The AWS fields are only shown (and only matter) for SigV4.
    const profile = checkAwsName(form.awsProfile, true);
    if (profile) errors.awsProfile = profile;
    const region = checkAwsName(form.awsRegion, true);
    if (region) errors.awsRegion = region;
    const service = checkAwsName(form.awsService, false);
    if (service) errors.awsService = service;
  }
  if (form.apiKey !== '' && form.apiKey.trim() !== form.apiKey) errors.apiKey = 'The key has leading or trailing spaces.';
  if (form.apiKey !== '' && form.forgetApiKey) errors.apiKey = 'Either enter a new key or forget the stored one, not both.';
  return errors;
}

/** The patch for what changed (the API key only when one was typed, or forgetting was asked). */
export function patchFromForm(form: SettingsForm, current: SettingsView): SettingsPatch {
  const patch: SettingsPatch = {};
  if (form.listenUrl.trim() !== current.listenUrl) patch.listenUrl = form.listenUrl.trim();
  if (form.startListenerOnLaunch !== current.startListenerOnLaunch) patch.startListenerOnLaunch = form.startListenerOnLaunch;
  if (form.closeToTray !== current.closeToTray) patch.closeToTray = form.closeToTray;
  if (form.startAtLogin !== current.startAtLogin) patch.startAtLogin = form.startAtLogin;
  const remote: NonNullable<SettingsPatch['remote']> = {};
  if (form.registryUrl.trim() !== current.remote.registryUrl) remote.registryUrl = form.registryUrl.trim();
  if (form.environmentId.trim() !== current.remote.environmentId) remote.environmentId = form.environmentId.trim();
  if (form.name !== current.remote.name) remote.name = form.name;
  if (form.authMethod !== current.remote.authMethod) remote.authMethod = form.authMethod;
  if (form.awsProfile.trim() !== current.remote.awsProfile) remote.awsProfile = form.awsProfile.trim();
  if (form.awsRegion.trim() !== current.remote.awsRegion) remote.awsRegion = form.awsRegion.trim();
  if (form.awsService.trim() !== current.remote.awsService) remote.awsService = form.awsService.trim();
  if (form.connectOnLaunch !== current.remote.connectOnLaunch) remote.connectOnLaunch = form.connectOnLaunch;
  if (Object.keys(remote).length > 0) patch.remote = remote;
  if (form.apiKey !== '') patch.apiKey = form.apiKey;
  else if (form.forgetApiKey) patch.apiKey = null;
  return patch;
}
