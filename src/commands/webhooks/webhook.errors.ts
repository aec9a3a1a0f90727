import { AppError } from '../../platform/errors.js';

/** The target URL may not receive webhooks: not http(s), plain http, or a non-public address. */
export class WebhookTargetRefusedError extends AppError {
  constructor(url: string, reason: string) {
    super('unprocessable', 'webhook.target-refused', `Webhooks cannot be sent to ${url}: ${reason}`, { url, reason });
  }
}

/** The target's host name does not resolve (now); at delivery time this is worth a retry. */
export class WebhookTargetUnresolvableError extends AppError {
  constructor(url: string, hostname: string) {
    super('unprocessable', 'webhook.target-unresolvable', `Webhooks cannot be sent to ${url}: ${hostname} does not resolve`, {
      url,
    });
  }
}
