'use strict';
// Errors carry a `code`: the C API's name for engine results ("RTC_EINVAL",
// "RTC_ESTATE", "RTC_ENOTSUP", ...), so callers branch on codes, not text.

class RtcoreError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'RtcoreError';
    this.code = code;
  }
}

// Thrown from an onConnect hook to refuse a connection with an HTTP status
// (a deferred refusal reaches the client as close code 4000 + status).
class Reject extends Error {
  constructor(status = 403, message = 'connection refused') {
    super(message);
    this.name = 'Reject';
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RtcoreError('RTC_EINVAL', `Reject status must be an integer 400..599, got ${status}`);
    }
    this.status = status;
  }
}

// Thrown (or rejected) by a message listener to answer the client with an
// error frame of this protocol code (e.g. 'forbidden', 'invalid_field')
// instead of the generic internal_error; nothing is reported.
class MessageError extends Error {
  constructor(code, message = code) {
    super(message);
    this.name = 'MessageError';
    if (typeof code !== 'string' || code === '') {
      throw new RtcoreError('RTC_EINVAL', 'MessageError code must be a non-empty string');
    }
    this.code = code;
  }
}

function invalid(message) {
  return new RtcoreError('RTC_EINVAL', message);
}

module.exports = { RtcoreError, Reject, MessageError, invalid };
