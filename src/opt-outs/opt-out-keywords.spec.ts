import { keywordActionOf, OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from './opt-out-keywords';

describe('keywordActionOf', () => {
  it('reads every opt-out keyword in any case, with whitespace around it', () => {
    for (const keyword of OPT_OUT_KEYWORDS) {
      for (const body of [keyword, keyword.toLowerCase(), keyword[0] + keyword.slice(1).toLowerCase(), `  ${keyword}\n`, `\t${keyword.toLowerCase()} \r\n`]) {
        expect(keywordActionOf(body)).toEqual({ action: 'opt_out', keyword });
      }
    }
    expect(OPT_OUT_KEYWORDS).toEqual(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
  });

  it('reads START, YES and UNSTOP as opt-ins', () => {
    expect(OPT_IN_KEYWORDS).toEqual(['START', 'YES', 'UNSTOP']);
    expect(keywordActionOf('start')).toEqual({ action: 'opt_in', keyword: 'START' });
    expect(keywordActionOf(' Yes ')).toEqual({ action: 'opt_in', keyword: 'YES' });
    expect(keywordActionOf('UnStop')).toEqual({ action: 'opt_in', keyword: 'UNSTOP' });
  });

  it('counts only a body that is the keyword alone', () => {
    for (const body of ['stop please', 'please stop', 'STOP.', 'STOP!', 'S T O P', 'stopp', 'sto', 'OPT OUT', 'yes please', '"STOP"', '', '   ', 'stop\nstop', 'STOP2']) {
      expect(keywordActionOf(body)).toBeNull();
    }
  });

  it('does not take Unicode look-alikes that upper-case to ASCII letters', () => {
    expect('ſtop'.toUpperCase()).toBe('STOP'); // the long s would match if upper-cased blindly
    expect(keywordActionOf('ſtop')).toBeNull();
    expect(keywordActionOf('quıt')).toBeNull(); // dotless i
    expect(keywordActionOf('ＳＴＯＰ')).toBeNull(); // full-width
  });

  it('treats non-breaking and other Unicode spaces around the keyword as whitespace', () => {
    expect(keywordActionOf('\u00a0STOP\u2003')).toEqual({ action: 'opt_out', keyword: 'STOP' });
  });
});
