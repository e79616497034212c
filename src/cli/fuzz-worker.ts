/** A worker thread of `riscv-hotplug fuzz --jobs J`: runs one task and posts each result as it is done. */
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzzTask, type FuzzJob, type FuzzTask } from '../session/fuzz-tasks.js';

const { job, task } = workerData as { job: FuzzJob; task: FuzzTask };
runFuzzTask(job, task, (m) => parentPort!.postMessage(m));
