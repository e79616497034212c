/** The recordings the golden tests run (all of test/fixtures/oracle). */
export const GOLDEN_RECORDINGS = [
  'a-boot.sv39.log',
  'a-boot.sv48.log',
  'a-boot.sv48.m4g-mem1g.log',
  'a-boot.sv57.log',
  'b-add-online-movable.sv48.log',
  'b-add-online-movable.sv57.log',
  'c-unaligned-384M.sv57.log',
  'd-bad-inputs.sv48.log',
  'f-memmap-on-memory.sv57.log',
  'j-zone-device.sv48.log',
  'k-subsection-unmap.sv48.log',
  'vmem-a-movable.sv57.log',
  'vmem-d-bad-inputs.sv48.log',
] as const;
