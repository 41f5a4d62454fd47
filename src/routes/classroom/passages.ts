/** Short graded passages to read aloud; a teacher can paste any other. */
export const PASSAGES = [
  {
    title: 'The little dog',
    text: 'The little dog ran across the green field to find his ball. Then he sat under a tall tree and waited for the children to come home from school.'
  },
  {
    title: 'The farmer',
    text: 'The farmer planted seeds in the spring and watched the corn grow tall. In autumn his family helped him carry the harvest to the barn.'
  },
  {
    title: 'At the museum',
    text: 'My brother likes to read books about animals and the ocean. Yesterday we visited the museum together.'
  }
] as const;
