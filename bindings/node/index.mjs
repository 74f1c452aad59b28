// ESM entry: the same objects as the CommonJS one.
import rtcore from './index.js';

export const { Engine, Connection, Reject, MessageError, RtcoreError, version, defaults, optionTable, statsFields,
  METRICS_CONTENT_TYPE } = rtcore;
export default rtcore;
