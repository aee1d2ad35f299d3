// The cashout link as a QR code, drawn as one SVG path (sharp at any size, no canvas, no inline style).
// Error correction H (30% of the code may be unreadable: glare on a screen, a thumb on the corner) and
// the standard quiet zone of 4 modules, dark on white whatever the page's theme.
import { encode } from 'uqr';

const QUIET_ZONE = 4;

/** The SVG path of the dark modules: one unit square per module, in module coordinates. */
export function qrPath(data: readonly (readonly boolean[])[]): string {
  const parts: string[] = [];
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  return parts.join('');
}

export function QrCode(props: { text: string; label: string }) {
  const { data, size } = encode(props.text, { ecc: 'H', border: QUIET_ZONE });
  return (
    <svg
      class="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={props.label}
      shape-rendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={qrPath(data)} fill="#000" />
    </svg>
  );
}
