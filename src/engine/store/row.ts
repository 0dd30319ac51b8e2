/** Reading stored rows back: the helpers live in src/stored-row.ts (the network records use them too). */
export * from '../../stored-row.ts';
