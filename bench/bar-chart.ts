/** One bar: the median, with a min–max whisker. */
export interface Bar {
  readonly label: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Fill colour (any SVG colour). */
  readonly color: string;
  /** Text after the value, e.g. "1.02× hand loop". */
  readonly note?: string;
}

export interface BarChartOptions {
  readonly title: string;
  readonly subtitle: string;
  /** Unit shown after the axis numbers and values, e.g. "records/s". */
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** Bottom line: the machine the numbers came from. */
  readonly footer: string;
}

const WIDTH = 900;
const LABEL_WIDTH = 210;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_WIDTH = 480;
const ROW = 34;
const TOP = 76;

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** 1, 2 or 5 times a power of ten: axis steps a reader can add up. */
function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** Compact numbers for axis and values: 1,234,567 → "1.23M". */
export function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** A horizontal bar chart as a standalone SVG document (no dependency, no script, no fonts to load). */
export function barChart(options: BarChartOptions): string {
  const top = Math.max(...options.bars.map((bar) => bar.max), 1);
  const step = niceStep(top, 5);
  const axisMax = Math.ceil(top / step) * step;
  const x = (value: number) => PLOT_LEFT + (value / axisMax) * PLOT_WIDTH;
  const plotBottom = TOP + options.bars.length * ROW;
  const height = plotBottom + 64;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="17" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>`,
    `<text x="16" y="50" fill="#555">${escapeXml(options.subtitle)}</text>`,
  ];
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${plotBottom}" stroke="#e3e3e3"/>`,
      `<text x="${tx}" y="${plotBottom + 16}" text-anchor="middle" font-size="11" fill="#666">${compact(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${PLOT_LEFT + PLOT_WIDTH / 2}" y="${plotBottom + 32}" text-anchor="middle" font-size="11" fill="#666">${escapeXml(options.unit)} (bar: median, whisker: min–max)</text>`,
  );
  options.bars.forEach((bar, index) => {
    const y = TOP + index * ROW;
    const middle = y + ROW / 2;
    const barEnd = x(bar.median);
    const [lo, hi] = [x(bar.min), x(bar.max)];
    parts.push(
      `<text x="${LABEL_WIDTH}" y="${middle + 4}" text-anchor="end" fill="#222">${escapeXml(bar.label)}</text>`,
      `<rect x="${PLOT_LEFT}" y="${y + 6}" width="${(barEnd - PLOT_LEFT).toFixed(1)}" height="${ROW - 12}" fill="${bar.color}"/>`,
      `<line x1="${lo.toFixed(1)}" y1="${middle}" x2="${hi.toFixed(1)}" y2="${middle}" stroke="#222" stroke-width="1.5"/>`,
      `<line x1="${lo.toFixed(1)}" y1="${middle - 6}" x2="${lo.toFixed(1)}" y2="${middle + 6}" stroke="#222" stroke-width="1.5"/>`,
      `<line x1="${hi.toFixed(1)}" y1="${middle - 6}" x2="${hi.toFixed(1)}" y2="${middle + 6}" stroke="#222" stroke-width="1.5"/>`,
      `<text x="${(Math.max(hi, barEnd) + 8).toFixed(1)}" y="${middle + 4}" fill="#222">${escapeXml(
        `${compact(bar.median)}${bar.note ? `  ${bar.note}` : ''}`,
      )}</text>`,
    );
  });
  parts.push(
    `<text x="16" y="${height - 12}" font-size="11" fill="#777">${escapeXml(options.footer)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
