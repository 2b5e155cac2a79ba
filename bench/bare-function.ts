// The cold-start baseline: a functions-framework function that does nothing.
import { http } from '@google-cloud/functions-framework';

http('bare', (_req, res) => {
  res.status(200).json({ ok: true });
});
