import { useId, useState, type ReactNode } from 'react';
import { useActions, useDesk } from '../desk-context.ts';
import { formFromSettings, patchFromForm, validateSettingsForm, type SettingsErrors, type SettingsForm } from '../settings-form.ts';
import { commandKey } from '../store/desk-store.ts';
import { Panel } from './common.tsx';

function TextField(props: {
  name: keyof SettingsForm;
  label: string;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
  type?: 'text' | 'password' | 'url';
  hint?: ReactNode;
  placeholder?: string;
}): React.JSX.Element {
  const id = useId();
  return (
    <div className="form-row">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        placeholder={props.placeholder}
        autoComplete={props.type === 'password' ? 'new-password' : 'off'}
        spellCheck={false}
        aria-invalid={props.error !== undefined}
        aria-describedby={props.error ? `${id}-error` : props.hint ? `${id}-hint` : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.error ? (
        <p className="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : props.hint ? (
        <p className="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

function CheckField(props: { name: keyof SettingsForm; label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }): React.JSX.Element {
  const id = useId();
  return (
    <div className="form-row check">
      <input id={id} name={props.name} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
      {props.hint ? <p className="hint">{props.hint}</p> : null}
    </div>
  );
}

export function SettingsView(): React.JSX.Element | null {
  const settings = useDesk((s) => s.snapshot?.settings ?? null);
  const host = useDesk((s) => s.snapshot?.host ?? 'headless');
  const { run } = useActions();
  const [form, setForm] = useState<SettingsForm | null>(() => (settings ? formFromSettings(settings) : null));
  const [errors, setErrors] = useState<SettingsErrors>({});
  const [saved, setSaved] = useState<string>('');
  const authId = useId();
  if (settings === null) return null;
  const current = form ?? formFromSettings(settings);
  const set = <K extends keyof SettingsForm>(key: K, value: SettingsForm[K]) => {
    setForm({ ...current, [key]: value });
    setSaved('');
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const found = validateSettingsForm(current);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setSaved('');
      return;
    }
    const patch = patchFromForm(current, settings);
    if (Object.keys(patch).length === 0) {
      setSaved('Nothing changed.');
      return;
    }
    const result = await run('updateSettings', patch);
    if (result !== null) {
      // The typed key leaves this component's state as soon as it has been sent.
      setForm(formFromSettings(result));
      setSaved('Saved.');
    } else {
      setForm({ ...current, apiKey: '' });
      setSaved('');
    }
  };

  return (
    <Panel title="Settings" id="settings">
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Settings">
        <fieldset>
          <legend>Local listener</legend>
          <TextField
            name="listenUrl"
            label="Listen URL"
            value={current.listenUrl}
            error={errors.listenUrl}
            onChange={(v) => set('listenUrl', v)}
            hint="ws://IP:PORT; port 0 picks a free port. Takes effect when the listener restarts."
          />
          <CheckField name="startListenerOnLaunch" label="Start the listener at launch" checked={current.startListenerOnLaunch} onChange={(v) => set('startListenerOnLaunch', v)} />
        </fieldset>
        <fieldset>
          <legend>Remote registration</legend>
          <TextField name="registryUrl" type="url" label="Registry URL" value={current.registryUrl} error={errors.registryUrl} onChange={(v) => set('registryUrl', v)} placeholder="https://…" />
          <TextField name="environmentId" label="Environment id" value={current.environmentId} error={errors.environmentId} onChange={(v) => set('environmentId', v)} />
          <TextField name="name" label="Executor name" value={current.name} error={errors.name} onChange={(v) => set('name', v)} />
          <div className="form-row">
            <label htmlFor={authId}>Auth method</label>
            <select id={authId} name="authMethod" value={current.authMethod} onChange={(e) => set('authMethod', e.target.value as SettingsForm['authMethod'])}>
              <option value="api-key">API key</option>
              <option value="chatgpt">ChatGPT sign-in</option>
              <option value="agent-identity">Agent identity</option>
              <option value="aws-sigv4">AWS SigV4 (direct transport)</option>
            </select>
          </div>
          {current.authMethod === 'aws-sigv4' ? (
            <>
              <TextField
                name="awsProfile"
                label="AWS profile"
                value={current.awsProfile}
                error={errors.awsProfile}
                onChange={(v) => set('awsProfile', v)}
                placeholder="from the environment, else AWS_PROFILE or default"
              />
              <TextField
                name="awsRegion"
                label="AWS region"
                value={current.awsRegion}
                error={errors.awsRegion}
                onChange={(v) => set('awsRegion', v)}
                placeholder="AWS_REGION, else the profile's region"
              />
              <TextField
                name="awsService"
                label="AWS signing service"
                value={current.awsService}
                error={errors.awsService}
                onChange={(v) => set('awsService', v)}
                hint="Registration and the websocket are signed with these; the keys come from the AWS environment variables or credentials file, never from this form."
              />
            </>
          ) : null}
          <TextField
            name="apiKey"
            type="password"
            label="API key"
            value={current.apiKey}
            error={errors.apiKey}
            onChange={(v) => set('apiKey', v)}
            placeholder={settings.hasApiKey ? 'a key is stored; type to replace it' : 'not set'}
            hint={settings.hasApiKey ? 'A key is stored. It is never shown again.' : 'No key stored.'}
          />
          {settings.hasApiKey ? <CheckField name="forgetApiKey" label="Forget the stored API key" checked={current.forgetApiKey} onChange={(v) => set('forgetApiKey', v)} /> : null}
          <CheckField name="connectOnLaunch" label="Connect at launch" checked={current.connectOnLaunch} onChange={(v) => set('connectOnLaunch', v)} />
        </fieldset>
        {host === 'desktop' ? (
          <fieldset>
            <legend>Desktop</legend>
            <CheckField name="closeToTray" label="Closing the window keeps exec-desk in the tray" checked={current.closeToTray} onChange={(v) => set('closeToTray', v)} />
            <CheckField name="startAtLogin" label="Start exec-desk when I log in" checked={current.startAtLogin} onChange={(v) => set('startAtLogin', v)} />
          </fieldset>
        ) : null}
        <div className="form-actions">
          <SaveButton />
          <button
            type="button"
            onClick={() => {
              setForm(formFromSettings(settings));
              setErrors({});
              setSaved('');
            }}
          >
            Revert
          </button>
          <span role="status" className="muted">
            {saved}
            {Object.keys(errors).length > 0 ? 'Fix the marked fields.' : ''}
          </span>
        </div>
      </form>
    </Panel>
  );
}

function SaveButton(): React.JSX.Element {
  const pending = useDesk((s) => s.pending[commandKey('updateSettings')] === true);
  return (
    <button type="submit" className="primary" disabled={pending} aria-busy={pending}>
      Save settings
    </button>
  );
}
