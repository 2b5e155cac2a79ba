import { describe, expect, it } from 'vitest';
import { email, emails } from '../../../../shared/api/email-fields.ts';

const settings = { serverName: 'syncbased' };

describe('emails with control characters (issue 29)', () => {
  it.each(['bea\u001b[2J@example.com', 'bea@example.com\n', 'b\u0000ea@example.com', 'bea\u009b31m@example.com', 'bea\u007f@example.com'])(
    'refuses %j, 400 naming the field, as one email and in a list',
    (value) => {
      const refusal = (field: string) =>
        expect.objectContaining({ status: 400, message: expect.stringMatching(new RegExp(`"${field}" .*control character`)) });
      expect(() => email('The new owner.').parse(value, 'to', settings)).toThrow(refusal('to'));
      expect(() => emails('Who to share it with.').parse(['ada@example.com', value], 'emails', settings)).toThrow(refusal('emails'));
    },
  );

  it('takes plain ones, and non-ASCII letters', () => {
    expect(email('The new owner.').parse('zoë@example.com', 'to', settings)).toBe('zoë@example.com');
    expect(emails('Who.').parse(['ada@example.com', ' bea@example.com'], 'emails', settings)).toEqual([
      'ada@example.com',
      ' bea@example.com',
    ]);
  });
});
