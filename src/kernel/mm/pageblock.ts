/** include/linux/pageblock-flags.h: the unit of migratetype (and of isolation on offline). */
export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;
