/** include/linux/mm_types.h: sizeof(struct page) in this build (64-bit, no debug fields). */
export const STRUCT_PAGE_SIZE = 64;
