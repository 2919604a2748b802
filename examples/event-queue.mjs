// The UI event model on evloop's loop: events are posted to a queue and each type's handler is
// called by the loop, one event at a time, in order. (`evloop ui` feeds this queue from a real
// terminal; here a timer plays the user.)
// Run: node examples/event-queue.mjs
import { getDefaultLoop } from 'evloop';

const loop = getDefaultLoop();
const seen = [];
loop.events.on('click', (e) => seen.push(`click at ${e.x},${e.y}`));
loop.events.on('keydown', (e) => seen.push(`key ${e.key}`));

const clicks = [[3, 4], [10, 2]];
loop.callLater(10, () => {
  for (const [x, y] of clicks) loop.events.post({ type: 'click', x, y });
  loop.events.post({ type: 'keydown', key: 'q' });
  loop.events.post({ type: 'done' }); // dispatched after the three above: the queue keeps order
});
loop.events.on('done', () => {
  console.log(seen.join('\n'));
  try {
    loop.events.post({ type: 'clik', x: 0, y: 0 }); // a typo is an error, never a silent drop
  } catch (err) {
    console.log(err.code);
  }
});
