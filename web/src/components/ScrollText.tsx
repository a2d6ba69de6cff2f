/**
 * Preformatted text in a box that scrolls: focusable, so a keyboard can scroll it too (WCAG 2.1.1;
 * axe's scrollable-region-focusable), with its name as a title.
 */
export function ScrollText({ label, className, children }: { label: string; className?: string; children: string }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus for keyboard scrolling
    <pre className={className} tabIndex={0} title={label}>
      {children}
    </pre>
  )
}
