'use strict';
// A lightweight handle to one client connection, handed to event
// listeners. The id (a decimal string: connection ids are 64-bit) is the
// stable key; a new handle object is made per event.

class Connection {
  constructor(engine, id, userId) {
    this.id = id;
    this.userId = userId;
    Object.defineProperty(this, 'engine', { value: engine, enumerable: false });
  }

  // The object (or JSON text) is the frame, sent as is.
  send(frame, options) {
    this.engine.sendToConnection(this, frame, options);
  }

  // content in a direct_message envelope with from and timestamp.
  sendMessage(content, options) {
    this.engine.sendMessageToConnection(this, content, options);
  }

  join(room) {
    this.engine.join(this, room);
  }

  leave(room) {
    this.engine.leave(this, room);
  }

  sendError(code, message, id) {
    this.engine.sendError(this, code, message, id);
  }

  disconnect(code) {
    this.engine.disconnect(this, code);
  }

  toJSON() {
    return { id: this.id, userId: this.userId };
  }
}

module.exports = { Connection };
