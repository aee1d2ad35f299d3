// A wide table's box: it scrolls sideways on a narrow screen, so it takes the keyboard's focus (arrows
// then scroll it) and is named for screen readers as the region it is ("Table: Failed items", apart
// from the section of the same name around it).
import type { ComponentChildren } from 'preact';
import { useManager } from './context.ts';

export function ScrollBox({ label, children }: { label: string; children: ComponentChildren }) {
  const { texts } = useManager();
  return (
    <div
      class="table-wrap"
      role="region"
      aria-label={texts.fill(texts.messages.manager.table, { name: label })}
      tabIndex={0}
    >
      {children}
    </div>
  );
}

/** A column heading: its text, or its text and `num` for a column of numbers (aligned to the end). */
export type Column = string | { label: string; num: true };

/**
 * A section's table: the sentence saying it is empty, or the table in its scrolling box with one
 * heading row; `children` are its body's rows.
 */
export function DataTable(props: {
  label: string;
  labelledBy?: string;
  columns: readonly Column[];
  empty: boolean;
  emptyText: string;
  children: ComponentChildren;
}) {
  if (props.empty) return <p class="empty">{props.emptyText}</p>;
  return (
    <ScrollBox label={props.label}>
      <table aria-labelledby={props.labelledBy}>
        <thead>
          <tr>
            {props.columns.map((c) =>
              typeof c === 'string' ? (
                <th scope="col" key={c}>
                  {c}
                </th>
              ) : (
                <th scope="col" class="num" key={c.label}>
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </ScrollBox>
  );
}
