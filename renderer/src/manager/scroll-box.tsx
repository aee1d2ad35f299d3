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
