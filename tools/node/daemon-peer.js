#!/usr/bin/env node
// Edge Impulse's own daemon code, driving a board's ei.daemon() as `edge-impulse-daemon` does
// (its cli/daemon.ts: the set-up wizard, then a Studio sample request), with Studio left out:
// EiSerialProtocol from edge-impulse-linux, unmodified, over our connector to the board's pty
// (pty-connector.js), and the upload to an ingestion service (the local one, `python -m
// service`) made as the daemon makes it.
//
//   node tools/node/daemon-peer.js --port /dev/pts/N --ingestion http://127.0.0.1:8000
//       --api-key ei_... --hmac-key KEY [--mgmt-url ws://...] [--label idle]
//       [--length-ms 2000] [--interval-ms 10] [--path /api/training/data] [--sensor NAME]
//
// Prints one JSON object a line: {"step": ...} as each call to the board is made and answered
// (the daemon's own events included), then {"result": {...}} with the file read back (base64)
// and the upload's answer. Exits 1 with {"error": ...} when a step throws, as the daemon would
// have logged it.
'use strict';

const path = require('path');
const { PtyConnector } = require('./pty-connector');

const EI = path.join(__dirname, 'node_modules', 'edge-impulse-linux', 'build', 'shared');
const EiSerialProtocol = require(path.join(EI, 'daemon', 'ei-serial-protocol.js')).default;
const encodeLabel = require(path.join(EI, 'encoding.js')).default;

function options(argv) {
    const o = {
        label: 'idle', 'length-ms': '2000', 'interval-ms': '10', path: '/api/training/data',
        sensor: null, 'mgmt-url': null,
    };
    for (let i = 0; i < argv.length; i += 2) {
        if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
            throw new Error('arguments are --name value pairs; got ' + argv[i]);
        }
        o[argv[i].slice(2)] = argv[i + 1];
    }
    for (const need of ['port', 'ingestion', 'api-key', 'hmac-key']) {
        if (!o[need]) {
            throw new Error('--' + need + ' is needed');
        }
    }
    return o;
}

function say(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

// cli/daemon.ts's setupWizard, without its prompts: what it sets on a device it connects to
async function setup(o, protocol, config) {
    if (config.upload.host !== o.ingestion) {
        await protocol.setUploadHost(o.ingestion);
        say({ step: 'setUploadHost', host: o.ingestion });
    }
    if (o['mgmt-url'] && config.management.url !== o['mgmt-url']) {
        await protocol.setRemoteManagement(o['mgmt-url']);
        say({ step: 'setRemoteManagement', url: o['mgmt-url'] });
    }
    if (config.upload.apiKey !== o['api-key']) {
        let uploadEndpoint = '/api/training/data';
        if (config.upload.path !== '' && config.upload.path !== 'b') {
            uploadEndpoint = config.upload.path;
        }
        await protocol.setUploadSettings(o['api-key'], uploadEndpoint);
        say({ step: 'setUploadSettings', path: uploadEndpoint });
    }
    if (!config.sampling.hmacKey || config.sampling.hmacKey === 'please-set-me') {
        await protocol.setSampleSettings(config.sampling.label, config.sampling.interval,
            config.sampling.length, o['hmac-key']);
        say({ step: 'setSampleSettings', label: config.sampling.label,
            interval: config.sampling.interval, length: config.sampling.length });
    }
}

// cli/daemon.ts's SerialDevice.sampleRequest for a sensor that is not a camera
async function sample(o, protocol, config) {
    const s = {
        label: o.label, length: Number(o['length-ms']), interval: Number(o['interval-ms']),
        hmacKey: o['hmac-key'], path: o.path, sensor: o.sensor || undefined,
    };
    await protocol.setSampleSettings(s.label, s.interval, s.length, s.hmacKey);
    say({ step: 'setSampleSettings', label: s.label, interval: s.interval, length: s.length });
    await protocol.setUploadSettings(config.upload.apiKey, s.path);
    say({ step: 'setUploadSettings', path: s.path });

    const req = protocol.startSampling(s.sensor, s.length + 3000);
    for (const ev of ['samplingStarted', 'processing', 'uploading']) {
        req.on(ev, () => say({ step: 'startSampling', event: ev }));
    }
    req.on('readingFromDevice', (pct) => say({ step: 'startSampling', event: 'readingFromDevice',
        percent: pct }));
    const done = await new Promise((resolve, reject) => {
        req.on('done', resolve);
        req.on('error', (e) => reject(new Error(e)));
    });
    say({ step: 'startSampling', event: 'done', filename: done.filename,
        onDeviceFileName: done.onDeviceFileName, bytes: done.file ? done.file.length : null,
        read: done.label === undefined ? 'file' : 'buffer' });
    const result = { filename: done.filename, onDeviceFileName: done.onDeviceFileName,
        read: done.label === undefined ? 'file' : 'buffer' };
    if (!done.file) {
        return result;  // the device uploaded it itself
    }
    result.file = done.file.toString('base64');
    const url = o.ingestion + s.path;
    const binary = done.file.indexOf(Buffer.from('Ref-BINARY-', 'ascii')) > -1;
    const headers = {
        'x-api-key': config.upload.apiKey,
        'x-file-name': encodeLabel(done.filename),
        'Content-Type': binary ? 'application/octet-stream' : 'application/cbor',
    };
    if (binary) {
        headers['x-label'] = encodeLabel(done.label);
    }
    const response = await fetch(url, { method: 'POST', headers, body: done.file });
    result.upload = { status: response.status, body: await response.text() };
    say({ step: 'upload', status: response.status });
    if (!response.ok) {
        throw new Error(`Failed to upload: ${response.status} ${response.statusText}`);
    }
    if (!binary) {
        await protocol.unlink(done.onDeviceFileName);
        say({ step: 'unlink', file: done.onDeviceFileName });
        result.unlinked = true;
    }
    return result;
}

async function main() {
    const o = options(process.argv.slice(2));
    const serial = new PtyConnector(o.port);
    const protocol = new EiSerialProtocol(serial);
    await serial.connect();
    try {
        await protocol.onConnected();
        say({ step: 'onConnected' });
        let config = await protocol.getConfig();
        const v = config.info.atCommandVersion;
        say({ step: 'getConfig', id: config.info.id, type: config.info.type,
            atVersion: [v.major, v.minor, v.patch], sensors: config.sensors,
            host: config.upload.host, management: config.management });
        if (v.major > 1 || v.minor > 8) {
            throw new Error('Unsupported AT command version ' + [v.major, v.minor, v.patch].join('.'));
        }
        await setup(o, protocol, config);
        config = await protocol.getConfig();  // as the daemon reads it again after its set-up
        say({ step: 'getConfig', id: config.info.id, host: config.upload.host,
            apiKeySet: config.upload.apiKey === o['api-key'],
            hmacKeySet: config.sampling.hmacKey === o['hmac-key'],
            connected: config.management.connected });
        if (config.management.connected) {
            say({ result: { deviceIsConnected: true } });
            return;
        }
        say({ result: await sample(o, protocol, config) });
    } finally {
        await serial.disconnect();
    }
}

// Exits once done: startSampling's listener for "Uploading..." (which a board that does not
// upload never prints) holds a timer of three times the sample's length that its
// cancelListener does not clear (a long-running daemon does not notice); it would keep this
// process alive that long after its last step (12 s for a 1 s sample).
main().then(() => process.exit(0), (e) => {
    say({ error: (e && e.message) || String(e) });
    process.exit(1);
});
