// Edge Impulse's own remote-management client, unmodified, as a peer of the local service:
// RemoteMgmt (cli-common/remote-mgmt-service.js) with LinuxDevice (cli/linux/linux-device.js)
// from the npm package edge-impulse-linux (pinned in tools/node/package.json), put together as
// its `edge-impulse-linux` command does (cli/linux/linux.js), with the service's address in
// place of Edge Impulse's endpoints and of the project id it would look up. Not a test module:
// test_service_ei_linux.py runs it with NODE_PATH=tools/node/node_modules.
//
//     node ei_linux_device.js http://HOST:PORT API_KEY HMAC_KEY PROJECT_ID
//
// It prints one JSON line per event: {"event": "device", "id"} once it knows its id,
// {"event": "connected"} once RemoteMgmt calls itself connected (hello answered true, then
// Studio's REST calls answered: studio_api.py), {"event": "authenticationFailed"}.
"use strict";

const Module = require("module");

// LinuxDevice imports sharp when it loads, for one use: shrinking camera snapshots to 96 px
// for low-resolution snapshot streaming (registerCameraSnapshotHandler). `make node` installs
// packages without their install scripts, so sharp's native part is absent and loading it
// throws. No camera is registered here, so that code cannot run: sharp is stood in for by a
// function that throws if it is ever called, which would fail the test.
const sharpPath = require.resolve("sharp");
const stub = new Module(sharpPath);
stub.filename = sharpPath;
stub.loaded = true;
stub.exports = function sharp() { throw new Error("sharp is not installed (its native part): not needed here"); };
require.cache[sharpPath] = stub;

const WebSocket = require("ws");
const {RemoteMgmt} = require("edge-impulse-linux/build/cli-common/remote-mgmt-service");
const {LinuxDevice} = require("edge-impulse-linux/build/cli/linux/linux-device");
const {EdgeImpulseApi} = require("edge-impulse-linux/build/sdk/studio");

function say(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }

async function main() {
  const [base, apiKey, hmacKey, projectId] = process.argv.slice(2);
  const api = new EdgeImpulseApi({endpoint: base, extraHeaders: {"User-Agent": "EDGE_IMPULSE_CLI"}});
  await api.authenticate({method: "apiKey", apiKey: apiKey});
  const config = {api: api, endpoints: {internal: {ws: base.replace(/^http/, "ws"), api: base + "/v1",
                                                   ingestion: base}}};
  const devKeys = {apiKey: apiKey, hmacKey: hmacKey};
  const device = new LinuxDevice(config, Number(projectId), devKeys, false /* noMicrophone */,
                                 false /* enableVideo */, false /* verbose */, undefined);
  const remote = new RemoteMgmt(Number(projectId), devKeys, Object.assign({command: "edge-impulse-linux"}, config),
                                device, undefined, url => new WebSocket(url), async name => name);
  remote.on("authenticationFailed", () => say({event: "authenticationFailed"}));
  say({event: "device", id: await device.getDeviceId(), type: await device.getDeviceType()});
  await remote.connect();
  const watch = setInterval(() => {
    if (remote.isConnected) { say({event: "connected"}); clearInterval(watch); }
  }, 50);
}

main().catch(e => { say({event: "error", error: String(e && e.stack || e)}); process.exit(1); });
