// A serial connector for Edge Impulse's own daemon code (edge-impulse-linux's EiSerialProtocol,
// which takes an ISerialConnector: build/shared/daemon/iserialconnector.d.ts) to a board whose
// serial port is a pseudo-terminal: the unix port on tools/virtual_board.py, the emulated Pico.
// A pty is a tty: Node's own tty streams read and write it, so no `serialport` native build is
// needed. Raw mode, as a serial port is opened: no echo, no CR/LF translation of what comes in.
// A pty has no baud rate: the daemon is told it cannot switch (it then asks for ",n").
'use strict';

const fs = require('fs');
const tty = require('tty');
const { EventEmitter } = require('events');

class PtyConnector extends EventEmitter {
    /**
     * @param {string} path the pty (e.g. /dev/pts/5)
     * @param {string|null} serialNumber what getMACAddress() gives (the USB serial number the
     *     daemon sets as the device ID when the board has none), or null
     */
    constructor(path, serialNumber = null) {
        super();
        this._path = path;
        this._serialNumber = serialNumber;
        this._in = null;
        this._out = null;
        this._connected = false;
    }

    getPath() {
        return this._path;
    }

    isConnected() {
        return this._connected;
    }

    async connect() {
        const fd = fs.openSync(this._path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
        this._in = new tty.ReadStream(fd);
        this._in.setRawMode(true);
        this._out = new tty.WriteStream(fd);
        this._in.on('data', (data) => this.emit('data', data));
        this._in.on('error', (err) => {
            // EIO: the other side of the pty is gone (the board stopped)
            this._closed();
            this.emit('error', err);
        });
        this._in.on('close', () => this._closed());
        this._connected = true;
        this.emit('connected');
    }

    _closed() {
        if (this._connected) {
            this._connected = false;
            this.emit('close');
        }
    }

    write(buffer) {
        return new Promise((resolve, reject) => {
            if (!this._out) {
                reject(new Error('not connected to ' + this._path));
                return;
            }
            this._out.write(buffer, (err) => (err ? reject(err) : resolve()));
        });
    }

    async setBaudRate(baudRate) {
        // a pty has no line speed: nothing to switch
    }

    getBaudRate() {
        return 115200;
    }

    canSwitchBaudRate() {
        return false;
    }

    async disconnect() {
        const streams = [this._in, this._out];
        this._in = this._out = null;
        for (const s of streams) {
            if (s) {
                if (s.setRawMode) {
                    s.setRawMode(false);
                }
                s.destroy();
            }
        }
        this._closed();
        return true;
    }

    async getMACAddress() {
        return this._serialNumber;
    }

    async hasSerial() {
        return true;
    }
}

module.exports = { PtyConnector };
