/**
 * chart.js with only the parts the training charts use registered (line charts on linear or
 * log axes, title, legend, tooltip, LTTB decimation for long runs, zoom and pan), so the bundle
 * carries nothing else. Zoom's gestures come from hammerjs, bundled: nothing loads from outside.
 */
import { Chart, Decimation, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Title, Tooltip } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Title, Legend, Tooltip, Decimation, zoomPlugin);

export { Chart };
export type { ChartDataset } from 'chart.js';
