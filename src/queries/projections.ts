import { orderViewProjection } from './order-view/order-view.projection.js';
import type { Projection } from './shared/projection.js';

/** Every read model's projection. The projections worker applies each event to those that follow it. */
export const projections: readonly Projection[] = [orderViewProjection];
