// The README's library example, run for real (ports 0 instead of fixed ones): it must keep working.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLoop, request, serve, sleep, startServer, TaskGroup, openConnection } from '../src/index.js';

it('runs the README example end to end', async () => {
  const loop = createLoop();
  const fired: string[] = [];
  loop.callLater(10, () => fired.push('timer'));
  loop.events.on('click', (e) => fired.push(e.type));
  loop.events.post({ type: 'click' });

  const echo = await startServer(
    async (reader, writer) => {
      for await (const line of reader.lines()) {
        writer.write(line + '\n');
        await writer.drain();
      }
    },
    { port: 0, host: '127.0.0.1' },
  );
  const http = await serve((_req, res) => res.end('Hello, World!'), { port: 0, host: '127.0.0.1' });
  try {
    const addr = echo.address();
    assert.ok(addr && addr.family !== 'unix');
    const { reader, writer } = await openConnection('127.0.0.1', addr.port);
    try {
      writer.write('ping\n');
      assert.equal((await reader.readLine()).toString(), 'ping\n');
    } finally {
      writer.close();
    }

    const haddr = http.address();
    assert.ok(haddr && haddr.family !== 'unix');
    const res = await request(`http://127.0.0.1:${haddr.port}/`);
    assert.equal(await res.text(), 'Hello, World!');

    const started = performance.now();
    await TaskGroup.run(async (g) => {
      g.spawn('a', (signal) => sleep(50, { signal }));
      g.spawn('b', (signal) => sleep(80, { signal }));
    });
    const took = performance.now() - started;
    assert.ok(took >= 79 && took < 1000, `the group waited for both tasks together (${took.toFixed(0)} ms)`);
    await loop.idle();
    assert.deepEqual(fired.sort(), ['click', 'timer']); // order depends on when the first turn runs (timers come first in a turn)
  } finally {
    echo.close();
    await http.close();
    loop.close();
  }
});
