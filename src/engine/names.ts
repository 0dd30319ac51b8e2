/**
 * Docker's default container names: adjective_surname, picked at random,
 * with a digit appended when the pair is taken (names-generator.go's rule).
 * The lists are shorter than docker's; the shape is the same.
 */
import { randomInt } from 'node:crypto';

const LEFT = ['admiring', 'bold', 'brave', 'busy', 'clever', 'cool', 'dreamy', 'eager', 'elegant', 'festive', 'focused', 'gallant', 'gracious', 'happy', 'hopeful', 'jolly', 'keen', 'kind', 'lucid', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'wizardly', 'zealous'];
const RIGHT = ['agnesi', 'babbage', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'fermat', 'feynman', 'galileo', 'gauss', 'hopper', 'hypatia', 'kepler', 'knuth', 'lamport', 'lovelace', 'mccarthy', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak', 'yonath'];

export function randomName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}${attempt > 0 ? String(randomInt(10)) : ''}`;
    if (!taken(name)) return name;
  }
}
