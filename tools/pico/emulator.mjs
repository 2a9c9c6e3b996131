// The emulated Raspberry Pi Pico: rp2040js running a firmware from a flash image, driven by
// tools/pico/board.py over this process's stdin and stdout. Not run by hand: board.py starts
// it (python -m tools.pico runs a board on a pseudo-terminal).
//
//   node emulator.mjs --bootrom ROM --flash IMAGE [--flash-out FILE] [--cut-at N
//                     [--cut-after-writes K]] [--paced] [--gpio-in PIN=0|1 ...] [--trace-flash]
//
// What rp2040js 1.4.1 lacks and this file adds (../shared/rp2040/README.md has the facts):
// - Flash writes: the package ignores the flash's erase and program commands, so the boot
//   ROM's flash_range_erase and flash_range_program start with a breakpoint here, and the
//   handler erases (0xFF) or programs (AND: NOR flash only clears bits) the flash array, takes
//   the datasheet's typical time for it (a W25Q16JV's 4 KB sector erase 45 ms, 256-byte page
//   program 0.4 ms, during which the CPU waits, as it does on a Pico) and returns.
// - A USB host that NAKs: the package's CDC answers every OUT read at once, with an empty
//   packet when it has nothing to send; a real host keeps the read pending until it has bytes.
// - I2C devices: each bus transaction goes to board.py, which holds the chip models
//   (tools/chips/fake_i2c.py). The CPU stands still while board.py answers, so the emulated
//   clock does not see that wait; each byte then takes its bus time (9 SCL periods).
// - A power cut: --cut-at N stops the chip after N instructions, writes the flash as it was
//   left to --flash-out and exits; the next run boots from that image. With
//   --cut-after-writes K the N instructions count from the K-th flash write (erase or
//   program): a point the firmware reaches for sure, wherever the host's bytes came in.
// - --gpio-in 15=1: an input pin held high (or low) by the board's wiring, e.g. a jumper that
//   a main.py reads to choose what it does at boot.
// - --trace-flash: each erase and program is reported (F) with the instruction count at it,
//   from which a test picks the instructions to cut the power at.
// - --paced: while the CPU sleeps (WFI), emulated time does not run ahead of wall time, so a
//   peer on the serial port sees the board's timeouts as a real board's; without it an idle
//   board skips ahead to its next timer (tests: a sleep costs no wall time).
//
// Messages, both ways: one type byte, a 4-byte little-endian length, the payload.
//   to board.py:   U the serial port is open (DTR set) | F a flash write (JSON) | O serial bytes out | C i2c connect (bus, addr, read) | W i2c byte written
//                  (bus, value) | R i2c byte wanted (bus) | P i2c stop (bus) | X stopped (JSON)
//                  | T stats (JSON) | E error text
//   from board.py: I serial bytes in | A connect answer (0 nack, 1 ack, 2 bus held) | B byte read (value, or 256:
//                  the chip holds the bus and never answers) | S stats wanted | Q quit
// Every i2c message starts with the emulated time in nanoseconds (float64).
import fs from 'node:fs';
import { createRequire } from 'node:module';

// rp2040js as tools/node/package-lock.json pins it (make node installs it there).
const { RP2040 } = createRequire(new URL('../node/package.json', import.meta.url))('rp2040js');

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
  const key = a.slice(2);
  if (key === 'gpio-in') (args.gpio = args.gpio || []).push(process.argv[++i]);
  else args[key] = key === 'paced' || key === 'trace-flash' ? true : process.argv[++i];
}

const FLASH_BASE = 0x10000000;
const ERASE_NS_PER_SECTOR = 45e6; // W25Q16JV tSE typical, 4 KB
const PROGRAM_NS_PER_PAGE = 0.4e6; // tPP typical, 256 bytes
const YIELD_EVERY = 200000; // instructions between looks at stdin

const mcu = new RP2040(); // on its own simulation clock: time is what the CPU has run
const clock = mcu.clock;
mcu.logger = { debug() {}, info() {}, warn() {}, error(tag, msg) { send('E', Buffer.from(`${tag}: ${msg}`)); } };
const rom = fs.readFileSync(args.bootrom);
mcu.loadBootrom(new Uint32Array(rom.buffer, rom.byteOffset, rom.length / 4));
const image = fs.readFileSync(args.flash);
mcu.flash.set(image);
const flashSize = image.length;

// --- messages ------------------------------------------------------------------------------
function send(type, payload) {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(payload.length, 1);
  process.stdout.write(Buffer.concat([head, payload]));
}

function i2cMessage(type, bus, ...bytes) {
  const b = Buffer.alloc(9 + bytes.length);
  b.writeDoubleLE(clock.nanos, 0);
  b[8] = bus;
  bytes.forEach((v, i) => (b[9 + i] = v));
  send(type, b);
}

let inbox = Buffer.alloc(0);
let wake = null; // resolves the run loop's wait for a message
process.stdin.on('data', (chunk) => {
  inbox = Buffer.concat([inbox, chunk]);
  while (inbox.length >= 5) {
    const len = inbox.readUInt32LE(1);
    if (inbox.length < 5 + len) break;
    const type = String.fromCharCode(inbox[0]);
    const payload = inbox.subarray(5, 5 + len);
    inbox = inbox.subarray(5 + len);
    receive(type, Buffer.from(payload));
  }
  if (wake) wake();
});
process.stdin.on('end', () => {
  quit('stdin closed'); // board.py is gone: stop, even from a sleep no timer ends
  if (wake) wake();
});

function receive(type, payload) {
  if (type === 'I') serialIn(payload);
  else if (type === 'A') i2cAnswer(payload[0]);
  else if (type === 'B') i2cAnswer(payload.readUInt16LE(0));
  else if (type === 'S') send('T', Buffer.from(JSON.stringify(stats())));
  else if (type === 'Q') quit('asked');
}

// --- flash writes through the boot ROM -----------------------------------------------------
const flashWrites = { erased: 0, programmed: 0, erases: 0, programs: 0 };

function romFunction(c1, c2) {
  const code = c1.charCodeAt(0) | (c2.charCodeAt(0) << 8);
  let entry = mcu.readUint16(0x14); // the ROM's function table
  for (;;) {
    const c = mcu.readUint16(entry);
    if (!c) throw new Error(`no ROM function ${c1}${c2}`);
    if (c === code) return mcu.readUint16(entry + 2) & ~1;
    entry += 4;
  }
}

const BKPT_ERASE = 0xbe01;
const BKPT_PROGRAM = 0xbe02;
function patchRom(address, bkpt) {
  const word = address >> 2;
  const shift = (address & 2) * 8;
  mcu.bootrom[word] = (mcu.bootrom[word] & ~(0xffff << shift)) | (bkpt << shift);
}
patchRom(romFunction('R', 'E'), BKPT_ERASE);
patchRom(romFunction('R', 'P'), BKPT_PROGRAM);

let stallNanos = 0; // flash busy time the CPU waits for
mcu.onBreak = (code) => {
  const core = mcu.core;
  const r = core.registers;
  if (code === (BKPT_ERASE & 0xff)) {
    // flash_range_erase(addr, count, block_size, block_cmd)
    const offset = r[0] >>> 0, count = r[1] >>> 0;
    checkRange(offset, count);
    mcu.flash.fill(0xff, offset, offset + count);
    flashWrites.erased += count;
    flashWrites.erases++;
    trace('erase', offset, count);
    stallNanos += Math.ceil(count / 4096) * ERASE_NS_PER_SECTOR;
  } else if (code === (BKPT_PROGRAM & 0xff)) {
    // flash_range_program(addr, data, count)
    const offset = r[0] >>> 0, data = r[1] >>> 0, count = r[2] >>> 0;
    checkRange(offset, count);
    for (let i = 0; i < count; i++) mcu.flash[offset + i] &= mcu.readUint8(data + i);
    flashWrites.programmed += count;
    flashWrites.programs++;
    trace('program', offset, count);
    stallNanos += Math.ceil(count / 256) * PROGRAM_NS_PER_PAGE;
  } else {
    quit(`breakpoint ${code} at 0x${(core.PC - 2).toString(16)}`);
    return;
  }
  core.PC = core.LR & ~1; // return from the ROM function
};

function trace(kind, offset, count) {
  if (flashWrites.erases + flashWrites.programs === cutAfterWrites) cutAt = instructions + cutOffset;
  if (args['trace-flash']) {
    send('F', Buffer.from(JSON.stringify({ kind, offset, count, instructions, nanos: clock.nanos })));
  }
}

function checkRange(offset, count) {
  if (offset + count > flashSize) quit(`flash write beyond the ${flashSize}-byte flash at 0x${offset.toString(16)}`);
}

// --- USB CDC: a host that NAKs ---------------------------------------------------------------
const usb = mcu.usbCtrl;
const cdc = { inEndpoint: -1, outEndpoint: -1, descriptorsSize: null, descriptors: [], ready: false };
let serialPending = Buffer.alloc(0); // bytes from the host the board has not read
let outReads = []; // OUT buffers the board has armed: sizes, answered when bytes come

usb.onUSBEnabled = () => usb.resetDevice();
usb.onResetReceived = () => usb.sendSetupPacket(setupPacket(0x00, 0x05, 1, 0, 0)); // SET_ADDRESS 1
usb.onEndpointWrite = (endpoint, buffer) => {
  if (endpoint === 0 && buffer.length === 0) {
    if (cdc.descriptorsSize == null) {
      usb.sendSetupPacket(setupPacket(0x80, 0x06, 0x0200, 0, 9)); // GET_DESCRIPTOR configuration
    } else if (!cdc.ready) {
      cdc.ready = true; // SET_CONTROL_LINE_STATE: DTR and RTS, as a terminal opening the port
      usb.sendSetupPacket(setupPacket(0x21, 0x22, 3, 0, 0));
      send('U', Buffer.alloc(0));
    }
  }
  if (endpoint === 0 && buffer.length > 1) {
    if (buffer.length === 9 && buffer[1] === 2 && cdc.descriptorsSize == null) {
      cdc.descriptorsSize = buffer[2] | (buffer[3] << 8);
      usb.sendSetupPacket(setupPacket(0x80, 0x06, 0x0200, 0, cdc.descriptorsSize));
    } else if (cdc.descriptorsSize != null && cdc.descriptors.length < cdc.descriptorsSize) {
      cdc.descriptors.push(...buffer);
    }
    if (cdc.descriptorsSize === cdc.descriptors.length && cdc.inEndpoint < 0) {
      findEndpoints(cdc.descriptors);
      usb.sendSetupPacket(setupPacket(0x00, 0x09, 1, 0, 0)); // SET_CONFIGURATION 1
    }
  }
  if (endpoint === cdc.inEndpoint && buffer.length) send('O', Buffer.from(buffer));
};
usb.onEndpointRead = (endpoint, size) => {
  if (endpoint !== cdc.outEndpoint) return;
  outReads.push(size); // NAK until the host has bytes
  feedSerial();
};

function setupPacket(requestType, request, value, index, length) {
  const b = new Uint8Array(8);
  b[0] = requestType; b[1] = request;
  b[2] = value & 0xff; b[3] = value >> 8;
  b[4] = index & 0xff; b[5] = index >> 8;
  b[6] = length & 0xff; b[7] = length >> 8;
  return b;
}

function findEndpoints(d) {
  let inData = false;
  for (let i = 0; i + 1 < d.length && d[i] >= 2; i += d[i]) {
    if (d[i + 1] === 4 && d[i] === 9) inData = d[i + 4] === 2 && d[i + 5] === 10; // CDC data
    if (inData && d[i + 1] === 5 && d[i] === 7 && (d[i + 3] & 3) === 2) {
      if (d[i + 2] & 0x80) cdc.inEndpoint = d[i + 2] & 0xf;
      else cdc.outEndpoint = d[i + 2] & 0xf;
    }
  }
}

function serialIn(bytes) {
  serialPending = Buffer.concat([serialPending, bytes]);
  feedSerial();
}

function feedSerial() {
  while (outReads.length && serialPending.length) {
    const size = outReads.shift();
    const n = Math.min(size, serialPending.length);
    usb.endpointReadDone(cdc.outEndpoint, new Uint8Array(serialPending.subarray(0, n)));
    serialPending = serialPending.subarray(n);
  }
}

// --- I2C: the chips are board.py's ---------------------------------------------------------
let awaiting = null; // {bus, kind}: the CPU stands still until board.py answers
const byteAlarms = [];
mcu.i2c.forEach((i2c, bus) => {
  const done = { fn: null };
  const alarm = clock.createAlarm(() => done.fn && done.fn());
  byteAlarms.push(alarm);
  // A byte on the bus: 9 SCL periods (8 data bits and the acknowledge) of the controller's
  // configured clock.
  const later = (bits, fn) => {
    done.fn = fn;
    const period = (i2c.sclHighPeriod + i2c.sclLowPeriod) / mcu.clkSys * 1e9;
    alarm.schedule(bits * period);
  };
  i2c.onStart = () => later(1, () => i2c.completeStart());
  i2c.onConnect = (address, mode) => {
    // ack 2: the chip holds the bus (SCL low): the address phase never completes
    awaiting = { bus, answer: (ack) => { if (ack < 2) later(9, () => i2c.completeConnect(!!ack)); } };
    i2cMessage('C', bus, address, mode);
  };
  i2c.onWriteByte = (value) => {
    i2cMessage('W', bus, value); // a chip acknowledges every data byte
    later(9, () => i2c.completeWrite(true));
  };
  i2c.onReadByte = () => {
    awaiting = { bus, answer: (v) => { if (v < 256) later(9, () => i2c.completeRead(v)); } };
    i2cMessage('R', bus);
  };
  i2c.onStop = () => {
    i2cMessage('P', bus);
    later(1, () => i2c.completeStop());
  };
});

let answered = null;
function i2cAnswer(value) {
  if (!awaiting) return quit('an i2c answer nobody asked for');
  answered = { answer: awaiting.answer, value };
  awaiting = null;
}

// --- running ---------------------------------------------------------------------------------
let instructions = 0;
const cutOffset = args['cut-at'] != null ? Number(args['cut-at']) : Infinity;
const cutAfterWrites = args['cut-after-writes'] != null ? Number(args['cut-after-writes']) : 0;
let cutAt = cutAfterWrites ? Infinity : cutOffset; // set at the K-th write (trace())
const paced = !!args.paced;
const wallStart = process.hrtime.bigint();
let stopped = null;

function wallNanos() {
  return Number(process.hrtime.bigint() - wallStart);
}

function stats() {
  return { nanos: clock.nanos, instructions, wallNanos: wallNanos(), flash: flashWrites, pc: mcu.core.PC };
}

function quit(reason) {
  if (stopped) return;
  stopped = reason;
}

function waitMessage(ms) {
  return new Promise((resolve) => {
    const t = ms == null ? null : setTimeout(resolve, ms);
    wake = () => { wake = null; if (t) clearTimeout(t); resolve(); };
  });
}

for (const spec of args.gpio || []) {
  const [pin, value] = spec.split('=').map(Number);
  mcu.gpio[pin].setInputValue(!!value);
}

const cycleNanos = () => 1e9 / mcu.clkSys;
mcu.core.PC = FLASH_BASE; // boot2 runs first, as the boot ROM would start it

async function run() {
  while (!stopped) {
    if (answered) {
      const a = answered;
      answered = null;
      a.answer(a.value);
    }
    if (awaiting) {
      await waitMessage();
      continue;
    }
    const core = mcu.core;
    const ns = cycleNanos();
    let n = 0;
    while (n < YIELD_EVERY && !awaiting && !stopped) {
      if (stallNanos) {
        const s = stallNanos;
        stallNanos = 0;
        clock.tick(s);
      }
      if (core.waiting) {
        const next = clock.nanosToNextAlarm;
        if (next <= 0) break; // asleep with no timer: only the host can wake it
        if (paced && clock.nanos + next > wallNanos()) break;
        clock.tick(next);
      } else {
        if (instructions >= cutAt) {
          quit('cut');
          break;
        }
        clock.tick(core.executeInstruction() * ns);
        instructions++;
        n++;
      }
    }
    if (stopped) break;
    if (awaiting) continue;
    if (core.waiting) {
      // Asleep: wait for the host, or in paced mode for wall time to reach the next timer.
      const next = clock.nanosToNextAlarm;
      if (next <= 0) await waitMessage();
      else if (paced) await waitMessage(Math.max(0, (clock.nanos + next - wallNanos()) / 1e6));
      else await new Promise((r) => setImmediate(r));
    } else {
      await new Promise((r) => setImmediate(r));
    }
  }
  if (args['flash-out']) fs.writeFileSync(args['flash-out'], mcu.flash.subarray(0, flashSize));
  send('X', Buffer.from(JSON.stringify({ reason: stopped, ...stats() })));
  process.stdout.end(() => process.exit(0));
}

run().catch((e) => {
  send('E', Buffer.from(String(e && e.stack || e)));
  process.exit(1);
});
