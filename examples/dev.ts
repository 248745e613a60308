// The workflows `endure dev examples/dev.ts` serves: the lead scout of `npm run demo` and the
// refund of `npm run demo:api`, which waits for a manager's approval. Start one from the
// dashboard's terminal neighbour:
//
//   ENDURE_URL=http://127.0.0.1:4100 ENDURE_TOKEN=<printed token> \
//     endure start refund --input '{"order":"A-1","amountUsd":40}'
export { scout } from "./demo.js";
export { refund } from "./api.js";
