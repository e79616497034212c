/** The files the numbers come from, as `cat` prints them at this step. */
import type { Snapshot } from '../model/snapshot.js';

export function Files({ snap }: { snap: Snapshot }) {
  return (
    <section aria-labelledby="files-h">
      <h2 id="files-h">Files at this step</h2>
      <h3>/sys/kernel/debug/kernel_page_tables</h3>
      <pre data-testid="file-ptdump">{snap.ptdump}</pre>
      <h3>/proc/meminfo</h3>
      <pre data-testid="file-meminfo">{snap.meminfo}</pre>
      <h3>/proc/iomem</h3>
      <pre data-testid="file-iomem">{snap.iomem}</pre>
    </section>
  );
}
