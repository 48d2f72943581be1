/** Small building blocks shared by the views. */
import { useState, type ReactNode } from 'react';
import { useDesk } from '../desk-context.ts';

export function Panel(props: { title: string; id: string; actions?: ReactNode; children: ReactNode }): React.JSX.Element {
  return (
    <section className="panel" aria-labelledby={`${props.id}-title`}>
      <header className="panel-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions ? <div className="panel-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function Empty(props: { children: ReactNode }): React.JSX.Element {
  return <p className="empty">{props.children}</p>;
}

export function Badge(props: { tone: 'ok' | 'warn' | 'bad' | 'idle'; children: ReactNode; label?: string }): React.JSX.Element {
  return (
    <span className={`badge badge-${props.tone}`} aria-label={props.label}>
      {props.children}
    </span>
  );
}

/** A button wired to a command key: disabled while that command is in flight. */
export function CommandButton(props: {
  pendingKey: string;
  onClick: () => void;
  children: ReactNode;
  danger?: boolean;
  label?: string;
}): React.JSX.Element {
  const pending = useDesk((s) => s.pending[props.pendingKey] === true);
  return (
    <button
      type="button"
      className={props.danger ? 'danger' : undefined}
      onClick={props.onClick}
      disabled={pending}
      aria-busy={pending}
      aria-label={props.label}
    >
      {props.children}
    </button>
  );
}

/** Rows beyond `initial` are hidden behind "Show more", so long lists stay cheap to render. */
export function useCapped<T>(items: readonly T[], initial = 50): { shown: readonly T[]; more: ReactNode } {
  const [limit, setLimit] = useState(initial);
  const shown = items.length > limit ? items.slice(0, limit) : items;
  const more =
    items.length > limit ? (
      <button type="button" className="show-more" onClick={() => setLimit(limit + initial)}>
        Show more ({items.length - limit} hidden)
      </button>
    ) : null;
  return { shown, more };
}

export function Field(props: { label: string; children: ReactNode }): React.JSX.Element {
  return (
    <div className="field">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** One column of a `TablePanel`: its header and how a row fills the cell. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

/**
 * A panel listing `rows` as a table (or `empty` when there are none), capped behind "Show more",
 * with an unlabelled trailing column for per-row actions. `rowAttributes` gives each row its test
 * and data attributes.
 */
export function TablePanel<T>(props: {
  title: string;
  id: string;
  rows: readonly T[];
  empty: ReactNode;
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  rowAttributes?: (row: T) => Record<`data-${string}`, string | number | undefined>;
  actions?: (row: T) => ReactNode;
}): React.JSX.Element {
  const { shown, more } = useCapped(props.rows);
  return (
    <Panel title={props.title} id={props.id}>
      {props.rows.length === 0 ? (
        <Empty>{props.empty}</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th scope="col" key={column.header}>
                  {column.header}
                </th>
              ))}
              {props.actions ? (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={props.rowKey(row)} {...props.rowAttributes?.(row)}>
                {props.columns.map((column) => (
                  <td key={column.header} className={column.className}>
                    {column.cell(row)}
                  </td>
                ))}
                {props.actions ? <td>{props.actions(row)}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more}
    </Panel>
  );
}
