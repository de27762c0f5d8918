/**
 * chart.js with only the parts the training charts use registered (line charts on linear or
 * log axes, title, legend, tooltip, zoom and pan), so the bundle carries nothing else; long runs
 * are thinned before they reach chart.js (decimate, series.ts). Zoom's gestures come from
 * hammerjs, bundled: nothing loads from outside.
 */
import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Title, Tooltip } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Title, Legend, Tooltip, zoomPlugin);

export { Chart };
export type { ChartDataset } from 'chart.js';
